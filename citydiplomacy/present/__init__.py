"""Presentation shared by the dashboard and the reports: labels in English and Persian, digits, dates in both
calendars, charts, maps, fonts and the offline assets they need."""
