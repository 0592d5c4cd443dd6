"""Mail and spam logs: mail.log to pandas, summaries, plots."""
