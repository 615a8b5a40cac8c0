// presence: lists the normal windows once, for closing apps (loaded by presence, then unloaded).
// __SERVICE__, __PATH__, __INTERFACE__ and __TOKEN__ are JSON string literals filled in at load.
var SERVICE = __SERVICE__;
var PATH = __PATH__;
var INTERFACE = __INTERFACE__;
var TOKEN = __TOKEN__;
var all = workspace.windowList !== undefined ? workspace.windowList() : workspace.clientList();
for (var i = 0; i < all.length; i++) {
    var w = all[i];
    if (!w.normalWindow) {
        continue;  // panels, menus, tooltips and the desktop are not apps to close
    }
    callDBus(SERVICE, PATH, INTERFACE, "Window", TOKEN,
             String(w.resourceClass || ""), String(w.resourceName || ""),
             String(w.caption || ""), String(w.pid || 0), String(w.internalId));
}
callDBus(SERVICE, PATH, INTERFACE, "Done", TOKEN, String(all.length));
