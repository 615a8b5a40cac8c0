// presence's GNOME Shell extension: the shared part of both formats (GNOME 43-44 and 45+).
//
// The installer (presence/install/gnome.py) writes extension.js as the format's head
// (legacy.js or esm.js, which bring Gio, GLib, Meta, Shell and Main into scope) with this
// file in place of its marker line. It exports, on the session bus, the focused window (GNOME
// offers nothing public for that: org.gnome.Shell.Eval is refused since GNOME 41), a signal
// when focus or the focused window's title changes, and listing, closing and activating
// windows. Activate is what the integration tests use to focus windows in a known plan; it
// does what a click on the window would do and nothing more.

const PRESENCE_BUS_NAME = 'io.github.presence_desktop.Presence.GnomeShell';
const PRESENCE_OBJECT_PATH = '/io/github/presence_desktop/Presence/GnomeShell';
const PRESENCE_VERSION = @VERSION@;
const PRESENCE_INTERFACE = `<node>
  <interface name="io.github.presence_desktop.Presence.GnomeShell1">
    <method name="GetVersion">
      <arg type="u" direction="out" name="version"/>
    </method>
    <method name="GetFocus">
      <arg type="s" direction="out" name="wm_class"/>
      <arg type="s" direction="out" name="title"/>
      <arg type="u" direction="out" name="pid"/>
      <arg type="s" direction="out" name="app_id"/>
    </method>
    <method name="ListWindows">
      <arg type="a(tsssu)" direction="out" name="windows"/>
    </method>
    <method name="CloseWindow">
      <arg type="t" direction="in" name="id"/>
      <arg type="b" direction="out" name="found"/>
    </method>
    <method name="Activate">
      <arg type="t" direction="in" name="id"/>
      <arg type="b" direction="out" name="found"/>
    </method>
    <signal name="FocusChanged">
      <arg type="s" name="wm_class"/>
      <arg type="s" name="title"/>
      <arg type="u" name="pid"/>
      <arg type="s" name="app_id"/>
    </signal>
  </interface>
</node>`;

class PresenceTracker {
    enable() {
        this._dbus = Gio.DBusExportedObject.wrapJSObject(PRESENCE_INTERFACE, this);
        this._dbus.export(Gio.DBus.session, PRESENCE_OBJECT_PATH);
        this._nameId = Gio.bus_own_name_on_connection(
            Gio.DBus.session, PRESENCE_BUS_NAME, Gio.BusNameOwnerFlags.NONE, null, null);
        this._window = null;
        this._titleId = 0;
        this._focusId = global.display.connect('notify::focus-window', () => this._onFocus());
        this._onFocus();
    }

    disable() {
        global.display.disconnect(this._focusId);
        this._follow(null);
        Gio.bus_unown_name(this._nameId);
        this._dbus.unexport();
        this._dbus = null;
    }

    _follow(window) {
        if (this._window && this._titleId)
            this._window.disconnect(this._titleId);
        this._window = window;
        this._titleId = window
            ? window.connect('notify::title', () => this._emit(window)) : 0;
    }

    _onFocus() {
        const window = global.display.focus_window;
        if (window !== this._window)
            this._follow(window);
        this._emit(window);
    }

    _emit(window) {
        if (this._dbus) {
            this._dbus.emit_signal('FocusChanged',
                new GLib.Variant('(ssus)', this._describe(window)));
        }
    }

    _describe(window) {
        if (!window)
            return ['', '', 0, ''];
        const app = Shell.WindowTracker.get_default().get_window_app(window);
        // Windows of no known application get a made-up id "window:N": not an app id.
        const appId = app && !app.get_id().startsWith('window:') ? app.get_id() : '';
        return [
            window.get_wm_class() || '',
            window.get_title() || '',
            Math.max(0, window.get_pid()),
            appId,
        ];
    }

    _windows() {
        return global.display.get_tab_list(Meta.TabList.NORMAL_ALL, null);
    }

    _byId(id) {
        return this._windows().find(w => w.get_id() === Number(id)) || null;
    }

    GetVersion() {
        return PRESENCE_VERSION;
    }

    GetFocus() {
        return this._describe(global.display.focus_window);
    }

    ListWindows() {
        return this._windows().map(w => {
            const [wmClass, title, pid, appId] = this._describe(w);
            return [w.get_id(), wmClass, title, appId, pid];
        });
    }

    CloseWindow(id) {
        const window = this._byId(id);
        if (window)
            window.delete(global.get_current_time());
        return window !== null;
    }

    Activate(id) {
        const window = this._byId(id);
        if (window)
            Main.activateWindow(window);  // also leaves the Overview, as a click would
        return window !== null;
    }
}
