"""Node agent: collectors read /proc and /sys, a sampler builds batches, a publisher ships them."""
