"""The stream tier: a Faust app that validates, detects and writes what it found."""
