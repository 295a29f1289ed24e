"""Questions ``ask`` answers, shown when a question was not understood (and in --help)."""

from __future__ import annotations

EXAMPLES: tuple[str, ...] = (
    "how many anomalies in the last 6 hours?",
    "which web nodes had memory anomalies since yesterday?",
    "top 3 nodes by anomalies this week",
    "what fixed the last disk full incident on db nodes?",
    "list critical incidents in the last 2 days",
    "what is the memory usage on db-01 right now?",
    "which nodes are forecast to run out of disk?",
    "cpu trend of web-01 over the last 12 hours",
    "how many actions per kind this week?",
    "过去6小时有多少异常？",
    "从昨天开始哪些web节点有内存异常？",
    "数据库节点上最近一次磁盘满是怎么修复的？",
    "db-01 现在的内存使用率是多少",
    "哪些节点预测磁盘会耗尽",
    "本周按故障类型统计操作次数",
)
