"""auditor: one YAML spec in; a trained or vendor model, its audit and a readiness report out."""

__version__ = "0.1.0"
