"""An emulated Silicon Labs EZSP network co-processor (EmberZNet over ASH) on ``socket://``,
hearing the same radio world as the emulated Telegesis dongle."""
