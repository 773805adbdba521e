-- DropTable: the per-chunk ledger is replaced by per-tenant outcomes.
DROP TABLE "backfill_chunks";

-- CreateTable
CREATE TABLE "aggregation_outcomes" (
    "job_key" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "rows_written" INTEGER NOT NULL DEFAULT 0,
    "periods" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "error_type" TEXT,
    "message" TEXT,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "aggregation_outcomes_pkey" PRIMARY KEY ("job_key","tenant_id","type")
);

-- CreateIndex
CREATE INDEX "aggregation_outcomes_recorded_at_idx" ON "aggregation_outcomes"("recorded_at");
