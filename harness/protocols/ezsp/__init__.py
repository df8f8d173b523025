"""EZSP over ASH, the serial protocol of Silicon Labs EmberZNet network co-processors, as pure
codecs: ASH framing and link (UG101), EZSP frames and the commands a bench needs (UG100/UG600).
"""
