//! Packs: the tar streams that carry a bundle across the gap, their volumes, receipts and signatures.
