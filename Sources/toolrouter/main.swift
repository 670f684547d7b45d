print("toolrouter")
