/** Where the setup project saves the signed-in admin's browser state. */
export const STORAGE_STATE = 'tests/e2e/.auth/admin.json';

export const ADMIN = { email: 'admin@acme.example', password: 'admin-demo-pass' };
export const MANAGER = { email: 'manager@acme.example', password: 'manager-demo-pass' };
export const MEMBER = { email: 'member@acme.example', password: 'member-demo-pass' };
export const BUSINESS_ZONE = 'Europe/London';
export const SESSION_KEY = 'auditlog.session';
