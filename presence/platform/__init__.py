"""Platform backends: one protocol per capability (base.py), one module per mechanism.

Nothing here connects to anything at import time; third-party platform libraries (python-xlib,
jeepney, pynput, plyer) are imported inside the backend modules, and pynput only lazily.
"""
