"""The coder's workbench behind `eventdata serve`: workbench (library), sheetfile, suggest, app (Flask), static/."""
