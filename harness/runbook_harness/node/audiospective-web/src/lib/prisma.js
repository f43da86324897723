// The app's database client: the Prisma client generated from prisma/schema.prisma (`prisma
// generate`, at build time), over the pg driver adapter on the app's own DATABASE_URL. Loading it
// fails, as Prisma's does, where the client was never generated.
"use strict";
const { PrismaClient } = require("@prisma/client");
const { PrismaPg } = require("@prisma/adapter-pg");

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL || "" }) });

module.exports = { prisma };
