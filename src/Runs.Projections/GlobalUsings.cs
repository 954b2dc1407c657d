// Namespaces most files of this project use.
global using Marten;
global using Npgsql;
global using Runs.Domain;
