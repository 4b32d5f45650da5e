VALUE = "extra import dir"
