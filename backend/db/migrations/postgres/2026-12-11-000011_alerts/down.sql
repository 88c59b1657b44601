DROP TABLE deliveries;
DROP TABLE alert_rules;
