// presence's GNOME Shell extension, GNOME 45 and later format (ES modules).
import Clutter from 'gi://Clutter';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Meta from 'gi://Meta';
import Shell from 'gi://Shell';
import St from 'gi://St';
import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as PanelMenu from 'resource:///org/gnome/shell/ui/panelMenu.js';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

// @TRACKER@

export default class PresenceExtension extends Extension {
    enable() {
        this._tracker = new PresenceTracker();
        this._tracker.enable();
    }

    disable() {
        this._tracker.disable();
        this._tracker = null;
    }
}
