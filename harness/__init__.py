"""meterbench: a hardware-in-the-loop harness for the triage of GB smart metering devices."""

__version__ = "0.1.0"
