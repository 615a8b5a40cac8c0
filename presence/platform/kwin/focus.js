// presence: reports the active window to the presence daemon (loaded by presence itself).
// Values __SERVICE__, __PATH__, __INTERFACE__ are filled in as JSON string literals at load.
// Every argument is sent as a string: callDBus turns JavaScript numbers into doubles.
var SERVICE = __SERVICE__;
var PATH = __PATH__;
var INTERFACE = __INTERFACE__;
var watched = null;

function report(method, w) {
    callDBus(SERVICE, PATH, INTERFACE, method,
             String(w.resourceClass || ""), String(w.caption || ""), String(w.pid || 0),
             String(w.desktopFileName || ""), String(w.internalId));
}

function captionChanged() {
    if (watched !== null) {
        report("CaptionChanged", watched);
    }
}

function activated(w) {
    if (watched !== null) {
        try {
            watched.captionChanged.disconnect(captionChanged);
        } catch (e) {
            // the window was destroyed: its signals are gone with it
        }
    }
    watched = w || null;
    if (watched === null) {
        // KWin deactivates the old window before it activates the new one: the daemon waits
        // a moment before it believes that nothing has focus.
        callDBus(SERVICE, PATH, INTERFACE, "Deactivated");
        return;
    }
    watched.captionChanged.connect(captionChanged);
    report("Activated", watched);
}

// KWin 6 renamed clients to windows; KWin 5 has only the client names.
if (workspace.windowActivated !== undefined) {
    workspace.windowActivated.connect(activated);
    activated(workspace.activeWindow);
} else {
    workspace.clientActivated.connect(activated);
    activated(workspace.activeClient);
}
