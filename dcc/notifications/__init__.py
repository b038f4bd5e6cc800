"""In-app notifications, with a content-free e-mail telling the professional one is waiting."""
