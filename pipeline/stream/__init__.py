"""The stream tier: a Faust app that validates, detects and forwards."""
