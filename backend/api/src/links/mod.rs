//! Links into the host application: per tenant, its name and a URL template per record type
//! (`booking` → `https://crm.example/bookings/{id}`), so that the dashboard offers "Open in
//! <app>" beside every record it shows. The templates are checked when set ([`template`]) and
//! again whenever they are read: a template written into the database by other means is dropped,
//! never handed out.

pub mod routes;
pub mod template;
pub mod views;
