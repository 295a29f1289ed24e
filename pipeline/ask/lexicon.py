"""Words and phrases (English and Chinese) the parser recognises, longest first where it matters."""

from __future__ import annotations

# Diagnosis kinds (pipeline/incidents/diagnosis names) by the phrases operators use for them.
KIND_PHRASES: dict[str, tuple[str, ...]] = {
    "memory_leak": ("memory leak", "mem leak", "内存泄漏", "内存泄露"),
    "memory_pressure": ("memory pressure", "内存压力"),
    "disk_full": (
        "disk full", "disk-full", "full disk", "disk filled", "磁盘满", "磁盘已满", "磁盘写满",
    ),
    "cpu_saturation": ("cpu saturation", "cpu saturated", "cpu饱和"),
    "io_saturation": ("io saturation", "i/o saturation", "io饱和"),
    "network_degradation": (
        "network degradation", "network degraded", "packet loss", "网络劣化", "网络退化", "丢包",
    ),
    "load_spike": ("load spike", "负载突增", "负载尖峰"),
    "process_crash": ("process crash", "crash loop", "crashes", "crash", "进程崩溃", "崩溃"),
    "fd_exhaustion": ("fd exhaustion", "file descriptor", "文件描述符"),
    "bad_change": ("bad deploy", "bad change", "bad release", "错误发布", "错误变更"),
    "app_errors": ("app errors", "application errors", "应用错误"),
}  # fmt: skip

# Metric families by word; a family is matched against the metric names the store holds.
METRIC_WORDS: dict[str, tuple[str, ...]] = {
    "mem.*": ("memory", "mem", "ram", "内存"),
    "disk.*": ("disks", "disk", "storage", "磁盘", "硬盘"),
    "cpu.*": ("cpu", "processor"),
    "net.*": ("network", "net", "网络"),
}

ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "db": ("database", "databases", "数据库"),
    "web": ("webserver", "网页", "前端"),
    "cache": ("缓存",),
}

SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "critical": ("critical", "severe", "严重"),
    "warning": ("warnings", "warning", "警告"),
    "info": ("informational", "info", "提示"),
}

# What the answer is about, tried in this order: the first family with a hit wins.
WHAT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("forecasts", (
        "forecast", "predict", "run out", "fill up", "exhaust", "eta", "预测", "预计", "耗尽",
        "写满",
    )),
    ("actions", (
        "action", "remediation", "fixed", "fix", "was done", "did we do", "do about",
        "修复", "操作", "处理", "措施",
    )),
    ("metrics", (
        "usage", "use the most", "utilisation", "utilization", "right now", "value",
        "使用率", "使用", "占用", "现在",
    )),
    ("incidents", ("incident", "outage", "故障", "事故", "事件")),
    ("anomalies", ("anomal", "problem", "issue", "trouble", "alert", "异常", "问题", "告警")),
)  # fmt: skip

TREND_WORDS = ("trend", "evolve", "over time", "per hour", "趋势", "变化", "走势")
COUNT_WORDS = (
    "how many",
    "number of",
    "count",
    "total",
    "多少",
    "几个",
    "几次",
    "有几",
    "统计",
    "数量",
    "次数",
)
LATEST_WORDS = (
    "most recent", "latest", "last", "when was", "right now", "current", "newest",
    "最近一次", "上一次", "最新", "最后", "现在", "当前", "什么时候",
)  # fmt: skip
TOP_WORDS = ("top", "most", "highest", "最多", "最高", "最大", "前")
WHICH_PLURAL = (
    "which nodes", "which machines", "which hosts", "which servers", "which boxes",
    "哪些",
)  # fmt: skip
WHICH_ONE = ("which node", "which machine", "which host", "which server", "哪个", "哪台")

GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "kind": ("per diagnosis kind", "per kind", "by kind", "by diagnosis", "按故障类型", "按类型"),
    "metric": ("by metric", "per metric", "按指标"),
    "role": ("by role", "per role", "按角色"),
    "action": ("by action", "per action", "按操作"),
    "node": ("per node", "by node", "per host", "by host", "按节点", "按主机"),
}
