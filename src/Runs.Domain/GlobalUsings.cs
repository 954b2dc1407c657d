// Namespaces most files of this project use.
global using System.Security.Cryptography;
global using System.Text;
global using System.Text.Json;
