"""Analyzers: one small module of SRE knowledge per fault kind, in the spirit of K8sGPT's."""
