# Build: pre-generates Wolverine's and Marten's code so a production start compiles nothing at runtime.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet build src/Runs.Host -c Release -p:RunsPregenerate=true \
 && dotnet publish src/Runs.Host -c Release -p:RunsPregenerate=false --no-build -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
ENTRYPOINT ["dotnet", "Runs.Host.dll"]
