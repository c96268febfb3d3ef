"""Generic foundations that know no domain: clock, ids, crypto, rate limits."""
