"""Progress: completion tracking, programs, HR dashboards, certificates, ledger, xAPI."""
