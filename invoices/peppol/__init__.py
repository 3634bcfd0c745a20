"""The official Peppol BIS Billing 3.0 rules, vendored (see README.md), and the validator that runs them."""
