print("native tool")
