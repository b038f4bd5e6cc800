"""Patients: national health identity (INS), identity vigilance, care team, emergency access."""
