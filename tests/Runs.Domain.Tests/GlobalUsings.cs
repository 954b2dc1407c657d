// Namespaces most files of this project use.
global using Runs.Domain;
global using System.Text.Json;
