"""How bytes move: serial URLs, VISA, USB, BLE."""
