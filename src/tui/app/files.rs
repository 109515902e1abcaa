//! Writing files: the report export and the profile save.

use super::App;

impl App {
    pub(crate) fn export_to(&mut self, format: usize, path: &str) -> Result<String, String> {
        let _ = (format, path);
        Err("export: waiting for the report module".to_string())
    }

    pub(crate) fn save_profile_as(&mut self, name: &str) -> Result<String, String> {
        let _ = name;
        Err("save: waiting for the profile module".to_string())
    }
}
