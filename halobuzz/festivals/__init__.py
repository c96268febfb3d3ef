"""Festivals: Dashain, Tihar, Holi, Christmas, New Year and custom ones, time-boxed in their own
zone, with themed gifts, ledger-paid bonus coins, leaderboards and bilingual banners."""
