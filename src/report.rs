//! Reports: one exporter per format, used by the command line and the inspector.
