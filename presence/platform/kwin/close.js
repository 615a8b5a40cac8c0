// presence: asks one window to close, as its close button would (loaded once, then unloaded).
// __SERVICE__, __PATH__, __INTERFACE__, __TOKEN__ and __TARGET__ (an internalId) are JSON string
// literals filled in at load.
var SERVICE = __SERVICE__;
var PATH = __PATH__;
var INTERFACE = __INTERFACE__;
var TOKEN = __TOKEN__;
var TARGET = __TARGET__;
var all = workspace.windowList !== undefined ? workspace.windowList() : workspace.clientList();
var closed = 0;
for (var i = 0; i < all.length; i++) {
    if (String(all[i].internalId) === TARGET) {
        all[i].closeWindow();
        closed += 1;
    }
}
callDBus(SERVICE, PATH, INTERFACE, "Done", TOKEN, String(closed));
