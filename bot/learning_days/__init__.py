"""Learning days: scheduling (once or by a recurring rule), announcements at offsets, agenda,
RSVPs and calendar files. ``bot/features/learning_days.py`` registers the commands and the job."""
