ALTER TABLE merkle_nodes ADD CONSTRAINT merkle_nodes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id);
