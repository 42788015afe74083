"""Settings sections: company, sales, custom fields, mail, backups."""
