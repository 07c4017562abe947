"""The member card plugin for tgstats (/me, /whois)."""
