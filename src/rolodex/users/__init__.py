"""Users (admins and agents) and teams."""
