// Namespaces most files of this project use.
global using System.Diagnostics;
global using System.Net.Http.Headers;
global using System.Text;
global using System.Text.Json;
