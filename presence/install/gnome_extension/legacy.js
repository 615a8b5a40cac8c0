// presence's GNOME Shell extension, GNOME 43-44 format (legacy imports).
'use strict';

const {Clutter, Gio, GLib, Meta, Shell, St} = imports.gi;
const Main = imports.ui.main;
const PanelMenu = imports.ui.panelMenu;

// @TRACKER@

/* exported init */
function init() {
    return new PresenceTracker();
}
