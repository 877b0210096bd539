//! The live registry of apps and users: seeded at start, changed through the admin API.

use uuid::Uuid;

use super::region::Region;
use super::seed::{App, User};

/// Apps (per region) and users known to the sandbox.
#[derive(Debug, Default)]
pub struct Registry {
    apps: Vec<App>,
    users: Vec<User>,
}

impl Registry {
    /// A registry holding the seed's apps and users.
    pub fn new(apps: Vec<App>, users: Vec<User>) -> Self {
        Registry { apps, users }
    }

    /// Every app, in registration order.
    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// Every user.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The app with this client id in this region: an NL app is unknown on UK and vice versa.
    pub fn app(&self, region: Region, client_id: &str) -> Option<&App> {
        let id = Uuid::parse_str(client_id.trim().trim_matches(|c| c == '{' || c == '}')).ok()?;
        self.apps
            .iter()
            .find(|a| a.region == region && a.client_id == id)
    }

    /// Registers an app, replacing one with the same region and client id (e.g. a demo app
    /// re-registered with another redirect URI).
    pub fn upsert_app(&mut self, app: App) {
        match self
            .apps
            .iter_mut()
            .find(|a| a.region == app.region && a.client_id == app.client_id)
        {
            Some(existing) => *existing = app,
            None => self.apps.push(app),
        }
    }

    /// The user with this sign-in name.
    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    /// The user whose name and password match.
    pub fn sign_in(&self, username: &str, password: &str) -> Option<&User> {
        self.user(username).filter(|u| u.password == password)
    }

    /// Adds a user or replaces the one with the same name.
    pub fn upsert_user(&mut self, user: User) {
        match self.users.iter_mut().find(|u| u.username == user.username) {
            Some(existing) => *existing = user,
            None => self.users.push(user),
        }
    }
}

/// The divisions `user` may grant in `region`, given the divisions that exist there.
pub fn grantable_divisions(user: &User, region: Region, existing: &[i32]) -> Vec<i32> {
    match user.divisions.get(&region) {
        Some(list) => list
            .iter()
            .copied()
            .filter(|d| existing.contains(d))
            .collect(),
        None => existing.to_vec(),
    }
}

/// `Me.CurrentDivision` for `user` in `region`.
pub fn current_division(user: &User, region: Region, existing: &[i32]) -> Option<i32> {
    user.current_division
        .get(&region)
        .copied()
        .or_else(|| grantable_divisions(user, region, existing).first().copied())
}
