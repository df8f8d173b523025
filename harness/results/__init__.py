"""Results: the campaign store (never lost, never twice), the RFI figures, and reports."""
