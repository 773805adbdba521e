-- CreateTable
CREATE TABLE "backfill_chunks" (
    "job_key" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "period_type" TEXT NOT NULL,
    "range_from" TEXT NOT NULL,
    "range_to" TEXT NOT NULL,
    "rows_written" INTEGER NOT NULL,
    "completed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backfill_chunks_pkey" PRIMARY KEY ("job_key","tenant_id","type","period_type","range_from","range_to")
);
