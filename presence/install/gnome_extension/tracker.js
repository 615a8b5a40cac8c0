// presence's GNOME Shell extension: the shared part of both formats (GNOME 43-44 and 45+).
//
// The installer (presence/install/gnome.py) writes extension.js as the format's head
// (legacy.js or esm.js, which bring Gio, GLib, Meta, Shell and Main into scope) with this
// file in place of its marker line. It exports, on the session bus, the focused window (GNOME
// offers nothing public for that: org.gnome.Shell.Eval is refused since GNOME 41), a signal
// when focus or the focused window's title changes, and listing, closing and activating
// windows. Activate is what the integration tests use to focus windows in a known plan; it
// does what a click on the window would do and nothing more.
//
// It also shows presence's bar text in the top bar (PresenceIndicator, below): the same text
// as `presence status --format waybar`, fed by the daemon's own D-Bus interface
// (io.github.presence_desktop.Presence.Daemon1, docs/dbus-interface.xml), hidden while the
// daemon is not on the bus. GetIndicatorText is for tests: the text shown, "" when hidden.

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
    <method name="GetIndicatorText">
      <arg type="s" direction="out" name="text"/>
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
        this._indicator = new PresenceIndicator();
        this._indicator.enable();
    }

    disable() {
        this._indicator.disable();
        this._indicator = null;
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

    GetIndicatorText() {
        return this._indicator ? this._indicator.shownText() : '';
    }

    Activate(id) {
        const window = this._byId(id);
        if (window)
            Main.activateWindow(window);  // also leaves the Overview, as a click would
        return window !== null;
    }
}

const DAEMON_BUS_NAME = 'io.github.presence_desktop.Presence.Daemon1';
const DAEMON_OBJECT_PATH = '/io/github/presence_desktop/Presence/Daemon1';
const DAEMON_INTERFACE = 'io.github.presence_desktop.Presence.Daemon1';
const RENDER_SECONDS = 1;  // the text changes at minute boundaries: follow them closely
const RESYNC_SECONDS = 60;  // re-read all properties: a new day resets today's total

// `2h 05m`, `9m`: minutes are enough for a bar (presence/cli/status_fast.py `_short`).
function presenceShort(seconds) {
    const minutes = Math.floor(Math.max(0, seconds) / 60);
    if (minutes < 60)
        return `${minutes}m`;
    return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

// HH:MM in the shell's zone; with the weekday when it is not today.
function presenceClock(unix, nowUnix) {
    const when = GLib.DateTime.new_from_unix_local(unix);
    const now = GLib.DateTime.new_from_unix_local(Math.floor(nowUnix));
    const sameDay = when.get_year() === now.get_year() &&
        when.get_day_of_year() === now.get_day_of_year();
    return when.format(sameDay ? '%H:%M' : '%a %H:%M');
}

// The bar text of `presence status --format waybar` from the daemon's properties, as of
// `nowUnix` (wall clock), `today` being today's active seconds now.
function presenceBarText(props, today, nowUnix) {
    if (props.Paused)
        return 'paused';
    let text = presenceShort(today);
    if (props.Rule) {
        text += ` · ${props.Rule}`;
        if (props.RuleEnds)
            text += ` until ${presenceClock(props.RuleEnds, nowUnix)}`;
    } else if (props.NextRule) {
        const left = props.NextStarts ? Math.max(0, props.NextStarts - nowUnix) : 0;
        if (left < 12 * 3600)
            text += ` · ${props.NextRule} in ${presenceShort(left)}`;
    }
    return text;
}

// The top bar label. Reads the daemon's properties (GetAll) when it appears on the bus, on
// each PropertiesChanged and once a minute; in between, today's total grows with the clock
// while State is "active" (the daemon signals TodayActiveSeconds only with other changes).
class PresenceIndicator {
    enable() {
        this._props = null;
        this._readAt = 0;  // monotonic seconds of the last GetAll answer
        this._asked = 0;  // GetAll calls sent: an older answer never replaces a newer one
        this._cancellable = new Gio.Cancellable();
        this._button = new PanelMenu.Button(0.0, 'presence', true);
        this._label = new St.Label({text: '', y_align: Clutter.ActorAlign.CENTER});
        this._button.add_child(this._label);
        this._button.visible = false;
        Main.panel.addToStatusArea('presence-indicator', this._button);
        this._signalId = Gio.DBus.session.signal_subscribe(
            null, 'org.freedesktop.DBus.Properties', 'PropertiesChanged', DAEMON_OBJECT_PATH,
            DAEMON_INTERFACE, Gio.DBusSignalFlags.NONE, () => this._fetch());
        this._watchId = Gio.bus_watch_name_on_connection(
            Gio.DBus.session, DAEMON_BUS_NAME, Gio.BusNameWatcherFlags.NONE,
            () => this._fetch(), () => this._vanished());
        this._modeId = Main.sessionMode.connect('updated', () => this._render());
        this._timerId = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, RENDER_SECONDS, () => {
            if (this._props && this._monotonic() - this._readAt >= RESYNC_SECONDS)
                this._fetch();
            this._render();
            return GLib.SOURCE_CONTINUE;
        });
    }

    disable() {
        GLib.source_remove(this._timerId);
        Main.sessionMode.disconnect(this._modeId);
        Gio.bus_unwatch_name(this._watchId);
        Gio.DBus.session.signal_unsubscribe(this._signalId);
        this._cancellable.cancel();
        this._button.destroy();
        this._button = null;
        this._label = null;
        this._props = null;
    }

    // The text shown, '' while hidden (GetIndicatorText, for tests).
    shownText() {
        return this._button && this._button.visible ? this._label.get_text() : '';
    }

    _monotonic() {
        return GLib.get_monotonic_time() / 1e6;
    }

    _fetch() {
        const asked = ++this._asked;
        Gio.DBus.session.call(
            DAEMON_BUS_NAME, DAEMON_OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'GetAll',
            new GLib.Variant('(s)', [DAEMON_INTERFACE]), new GLib.VariantType('(a{sv})'),
            Gio.DBusCallFlags.NO_AUTO_START, 2000, this._cancellable, (bus, result) => {
                let props;
                try {
                    [props] = bus.call_finish(result).recursiveUnpack();
                } catch (e) {
                    if (!e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED) &&
                        asked === this._asked)
                        this._vanished();
                    return;
                }
                if (asked !== this._asked)
                    return;
                this._props = props;
                this._readAt = this._monotonic();
                this._render();
            });
    }

    _vanished() {
        this._asked++;  // an answer still on its way is from the daemon that left
        this._props = null;
        this._render();
    }

    _render() {
        if (!this._button)
            return;
        const props = this._props;
        // Nothing published yet (no device) is not running yet; no bar on the lock screen.
        if (!props || !props.Device || Main.sessionMode.isLocked) {
            this._button.visible = false;
            return;
        }
        let today = Number(props.TodayActiveSeconds);
        if (props.State === 'active')
            today += this._monotonic() - this._readAt;
        const text = presenceBarText(props, today, GLib.get_real_time() / 1e6);
        if (this._label.get_text() !== text)
            this._label.set_text(text);
        this._button.visible = true;
    }
}
