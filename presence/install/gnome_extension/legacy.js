// presence's GNOME Shell extension, GNOME 43-44 format (legacy imports).
'use strict';

const {Gio, GLib, Meta, Shell} = imports.gi;
const Main = imports.ui.main;

// @TRACKER@

/* exported init */
function init() {
    return new PresenceTracker();
}
