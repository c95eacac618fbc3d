"""paindiary: the backend of a trigeminal-neuralgia pain diary."""

__version__ = "0.1.0"
