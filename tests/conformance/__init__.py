"""Conformance: every corpus process through plain SpiffWorkflow and through our engine."""
