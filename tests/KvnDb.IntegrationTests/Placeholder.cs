namespace KvnDb.IntegrationTests;
